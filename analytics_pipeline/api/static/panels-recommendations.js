// Recommendations A/B test: v2 against v1, from GET /api/recommendations/v2/performance.
// The headline is the always-valid sequential test's call (safe to read every day); the
// fixed-horizon lifts below it come with their confidence intervals and p-values.

import { el, table } from "./dom.js";
import { integer, money, percent } from "./format.js";

const DECISIONS = {
  treatment_better: "v2 converts better",
  control_better: "v1 converts better",
  continue: "No winner yet: keep the test running",
};

/** A share (0.042) as percent text; the formatter takes percent units. */
const share = (value, signed = false) => (value === null ? "–" : percent(value * 100, signed));

const pText = (p) => (p < 0.001 ? "p < 0.001" : `p = ${p.toPrecision(2)}`);

function liftText(lift) {
  if (!lift || lift.relative_lift === null) return "–";
  const interval = lift.ci_low === null ? ""
    : ` (${share(lift.ci_low, true)} to ${share(lift.ci_high, true)})`;
  return `${share(lift.relative_lift, true)}${interval}, ${pText(lift.p_value)}`;
}

export function renderExperiment(body, data) {
  const { arms, sequential, sample_ratio: split, currency } = data;
  if (arms.every((arm) => arm.exposed_customers === 0)) {
    body.replaceChildren(el("p", { class: "empty" },
      "No recommendations shown yet: the test starts with the first exposure."));
    return;
  }
  const level = `${Math.round((1 - data.alpha) * 100)} %`;
  const call = sequential.decision === "continue"
    ? `${DECISIONS.continue} (always-valid ${pText(sequential.p_value)},`
      + ` ${integer(sequential.looks)} days)`
    : `${DECISIONS[sequential.decision]} (decided on day ${sequential.decided_at_look})`;
  body.replaceChildren(
    el("p", { class: "ab-decision", "data-decision": sequential.decision }, call),
    split.mismatch ? el("p", { class: "ab-srm", role: "alert" },
      `Sample ratio mismatch (${pText(split.p_value)}): the arms' sizes do not`
      + " match the configured split, so these figures cannot be trusted.") : "",
    table("Exposed customers, conversion, revenue and click-through per arm", [
      { title: "Arm", header: true }, { title: "Exposed", numeric: true },
      { title: "Conversion", numeric: true }, { title: "Rev. / exposed", numeric: true },
      { title: "CTR", numeric: true, narrow: true },
    ], arms.map((arm) => [
      el("span", { class: "name", "data-arm": arm.arm }, arm.arm),
      integer(arm.exposed_customers), share(arm.conversion_rate),
      money(arm.revenue_per_exposed_customer, currency), share(arm.click_through_rate),
    ])),
    el("dl", { class: "stats ab-lifts" },
      el("div", { class: "stat" }, el("dt", {}, `Conversion lift, ${level} CI`),
        el("dd", { "data-lift": "conversion" }, liftText(data.conversion))),
      el("div", { class: "stat" }, el("dt", {}, `Revenue per exposed customer, ${level} CI`),
        el("dd", { "data-lift": "revenue" }, liftText(data.revenue_per_exposed_customer)))),
    el("p", { class: "hint" }, `${Math.round(data.v2_share * 100)} % of customers see v2;`
      + ` conversions: ${data.conversion_source}.`),
  );
}
