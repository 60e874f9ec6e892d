"""One export run: members of a segment through the ledger to a destination."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Protocol

from analytics_pipeline.exports.ledger import ExportKey, ExportLedger
from analytics_pipeline.exports.members import Member

log = logging.getLogger(__name__)


class DestinationError(RuntimeError):
    """The destination refused the whole request (bad key, unreachable): not one member's
    fault. The message never contains e-mail addresses or secrets."""


class Destination(Protocol):
    name: str
    target: str
    batch_size: int

    def send(self, members: Sequence[Member], tag: str) -> dict[str, str | None]:
        """Send ``members`` tagged ``tag``; customer id -> ``None`` (sent) or the error."""
        ...


@dataclass
class MemberError:
    customer_id: str
    error: str


@dataclass
class ExportReport:
    run_id: str
    sent: int = 0
    already_sent: int = 0
    skipped_opt_out: int = 0
    skipped_no_email: int = 0
    in_progress: int = 0
    failed: int = 0
    errors: list[MemberError] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"sent": self.sent, "already_sent": self.already_sent, "failed": self.failed,
                "skipped_opt_out": self.skipped_opt_out,
                "skipped_no_email": self.skipped_no_email}


def run_export(
    members: Iterable[Member], segment: str, tag: str, destination: Destination,
    ledger: ExportLedger,
) -> ExportReport:
    """Send every consenting member of ``segment`` not yet sent; opted-out never."""
    key = ExportKey(destination.name, destination.target, segment)
    report = ExportReport(run_id=ledger.start_run(key))
    stream = iter(members)
    aborted: str | None = None
    while batch := list(islice(stream, destination.batch_size)):
        if aborted is not None:  # the destination is down: leave the rest for a re-run
            _fail(report, [m.customer_id for m in batch], f"not attempted: {aborted}")
            continue
        sendable = _screen(batch, report)
        fingerprints = {m.customer_id: m.fingerprint(segment) for m in sendable}
        claim = ledger.claim(key, report.run_id, fingerprints)
        report.already_sent += len(claim.already_sent)
        report.in_progress += len(claim.in_progress)
        chosen = set(claim.to_send)
        to_send = [m for m in sendable if m.customer_id in chosen]
        if not to_send:
            continue
        try:
            outcomes = destination.send(to_send, tag)
        except DestinationError as err:
            aborted = str(err)
            outcomes = {m.customer_id: aborted for m in to_send}
        except Exception as err:  # a bug or an odd reply must not strand the claims
            # Only the type is kept: messages of parsing errors may quote the payload.
            aborted = f"unexpected {type(err).__name__} from {destination.name}"
            log.warning("export %s: %s", report.run_id, aborted)
            outcomes = {m.customer_id: aborted for m in to_send}
        # A member the destination did not answer for counts as failed, never as sent.
        outcomes = {m.customer_id: outcomes.get(m.customer_id, "no outcome reported")
                    for m in to_send}
        ledger.record(key, report.run_id, fingerprints, outcomes)
        for customer_id, error in outcomes.items():
            if error is None:
                report.sent += 1
            else:
                _fail(report, [customer_id], error)
    ledger.finish_run(report.run_id, report.counts())
    log.info("export %s of %s to %s: %s", report.run_id, segment, destination.name,
             report.counts())
    return report


def _screen(batch: Sequence[Member], report: ExportReport) -> list[Member]:
    sendable = []
    for member in batch:
        if not member.marketing_opt_in:
            report.skipped_opt_out += 1
        elif not member.email:
            report.skipped_no_email += 1
        else:
            sendable.append(member)
    return sendable


def _fail(report: ExportReport, customer_ids: Sequence[str], error: str) -> None:
    report.failed += len(customer_ids)
    report.errors.extend(MemberError(c, error) for c in customer_ids)
