"""Segment exports against local fakes of Mailchimp and Klaviyo: rate limits, partial
failures and outages lose no member, re-runs send none twice, opted-out are never sent."""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from analytics_pipeline.exports.csv import csv_rows
from analytics_pipeline.exports.klaviyo import KlaviyoDestination
from analytics_pipeline.exports.ledger import ExportKey, ExportLedger
from analytics_pipeline.exports.mailchimp import MailchimpDestination, subscriber_hash
from analytics_pipeline.exports.members import Member
from analytics_pipeline.exports.resources import export_resources
from analytics_pipeline.exports.run import run_export
from analytics_pipeline.settings import Settings
from tests.segments_fakes import FakeKlaviyo, FakeMailchimp, jsonapi, problem, serve

MC_KEY, KL_KEY = "0123456789abcdef-us6", "pk_test_123"
BAD = "bad@example.com"


def _members() -> list[Member]:
    opted_in = [Member(f"c{i}", f"Person{i}@Example.com", f"P{i}", "Test", True)
                for i in range(1, 7)]
    opted_in.append(Member("c7", BAD, "Bad", None, True))
    opted_out = [Member("c8", "no@example.com", "No", "Thanks", False),
                 Member("c9", "nope@example.com", None, None, False)]
    return [*opted_in, *opted_out, Member("c10", None, "No", "Mail", True)]


OPTED_OUT = {"no@example.com", "nope@example.com"}


@pytest.fixture
def ledger(tmp_path: Path) -> ExportLedger:
    return ExportLedger(tmp_path / "exports.sqlite")


@pytest.fixture
def mailchimp() -> Iterator[FakeMailchimp]:
    fake = FakeMailchimp(key=MC_KEY, reject={BAD})
    with serve(fake):
        yield fake


@pytest.fixture
def klaviyo() -> Iterator[FakeKlaviyo]:
    fake = FakeKlaviyo(key=KL_KEY, reject={BAD})
    with serve(fake):
        yield fake


def _mailchimp(fake: FakeMailchimp, key: str = MC_KEY, threads: int = 4) -> MailchimpDestination:
    return MailchimpDestination(key, "aud1", base_url=f"{fake.url}/3.0", backoff_seconds=0.01,
                                max_attempts=4, concurrency=threads)


def _klaviyo(fake: FakeKlaviyo, key: str = KL_KEY) -> KlaviyoDestination:
    return KlaviyoDestination(key, fake.list_id, base_url=f"{fake.url}/api",
                              backoff_seconds=0.01, poll_seconds=0.01, max_attempts=4)


def test_subscriber_hash_is_md5_of_the_lowercased_address() -> None:
    expected = hashlib.md5(b"urist.mcvankab@freddiemacgurgle.com").hexdigest()  # noqa: S324
    assert subscriber_hash(" Urist.McVankab@FreddieMacGurgle.com ") == expected


def test_mailchimp_export_survives_429_and_partial_failure(
    mailchimp: FakeMailchimp, ledger: ExportLedger
) -> None:
    mailchimp.fail_next(problem(429, "Too Many Requests", "slow down", **{"Retry-After": "1"}),
                        problem(503, "Service Unavailable", "try later"))
    report = run_export(_members(), "vip", "VIP", _mailchimp(mailchimp), ledger)

    assert (report.sent, report.failed, report.skipped_opt_out, report.skipped_no_email) == \
        (6, 1, 2, 1)
    assert [e.customer_id for e in report.errors] == ["c7"]
    assert "looks fake" in report.errors[0].error and BAD not in report.errors[0].error
    assert set(mailchimp.accepted.values()) == {1}  # the retried requests counted once
    assert len(mailchimp.accepted) == 6
    assert not mailchimp.seen & OPTED_OUT
    member = mailchimp.members[subscriber_hash("person1@example.com")]
    assert member["status"] == "subscribed" and member["tags"] == {"VIP"}
    assert member["merge_fields"] == {"FNAME": "P1", "LNAME": "Test"}

    # The address gets fixed: the re-run sends exactly the member that failed.
    mailchimp.reject.clear()
    again = run_export(_members(), "vip", "VIP", _mailchimp(mailchimp), ledger)
    assert (again.sent, again.already_sent, again.failed) == (1, 6, 0)
    assert set(mailchimp.accepted.values()) == {1} and len(mailchimp.accepted) == 7
    assert not mailchimp.seen & OPTED_OUT


def test_mailchimp_keeps_an_unsubscribed_member_unsubscribed(
    mailchimp: FakeMailchimp, ledger: ExportLedger
) -> None:
    mailchimp.members[subscriber_hash("person1@example.com")] = {
        "email_address": "person1@example.com", "status": "unsubscribed", "tags": set()}
    run_export(_members()[:1], "vip", "VIP", _mailchimp(mailchimp), ledger)
    assert mailchimp.members[subscriber_hash("person1@example.com")]["status"] == "unsubscribed"


def test_mailchimp_bad_key_fails_every_member_and_keeps_them_for_the_rerun(
    mailchimp: FakeMailchimp, ledger: ExportLedger
) -> None:
    report = run_export(_members(), "new", "New", _mailchimp(mailchimp, key="wrong-us6"), ledger)
    assert report.sent == 0 and report.failed == 7
    assert "refused the API key" in report.errors[0].error
    fixed = run_export(_members(), "new", "New", _mailchimp(mailchimp), ledger)
    assert (fixed.sent, fixed.failed) == (6, 1)


def test_mailchimp_outage_gives_up_and_loses_nobody(
    mailchimp: FakeMailchimp, ledger: ExportLedger
) -> None:
    # One thread: the first member meets all four errors and is given up on.
    mailchimp.fail_next(*[problem(500, "Internal Server Error", "oops")] * 4)
    report = run_export(_members(), "vip", "VIP", _mailchimp(mailchimp, threads=1), ledger)
    assert report.sent + report.failed == 7
    assert report.failed >= 1 and any("gave up" in e.error for e in report.errors)
    again = run_export(_members(), "vip", "VIP", _mailchimp(mailchimp), ledger)
    assert again.sent + again.already_sent + again.failed == 7
    assert len(mailchimp.accepted) == 6 and set(mailchimp.accepted.values()) == {1}


def test_klaviyo_export_survives_429_and_partial_failure(
    klaviyo: FakeKlaviyo, ledger: ExportLedger
) -> None:
    klaviyo.fail_next(jsonapi(429, {"errors": [{"status": "429", "code": "throttled",
                                                "title": "Request was throttled."}]},
                              **{"Retry-After": "1"}))
    members = [*_members(), Member("c11", "bad2@example.com", None, None, True)]
    klaviyo.reject.add("bad2@example.com")
    report = run_export(members, "at_risk", "At-risk", _klaviyo(klaviyo), ledger)

    assert (report.sent, report.failed, report.skipped_opt_out) == (6, 2, 2)
    assert sorted(e.customer_id for e in report.errors) == ["c11", "c7"]  # two error pages
    assert all("@" not in e.error for e in report.errors)
    assert len(klaviyo.accepted) == 6 and set(klaviyo.accepted.values()) == {1}
    assert not klaviyo.seen & OPTED_OUT
    profile = klaviyo.profiles["Person1@Example.com"]
    assert profile["properties"] == {"segment": "At-risk"} and profile["external_id"] == "c1"
    assert klaviyo.list_members == set(klaviyo.accepted)

    klaviyo.reject.clear()
    again = run_export(members, "at_risk", "At-risk", _klaviyo(klaviyo), ledger)
    assert (again.sent, again.already_sent, again.failed) == (2, 6, 0)
    assert len(klaviyo.accepted) == 8 and set(klaviyo.accepted.values()) == {1}


def test_klaviyo_unreachable_marks_the_batch_failed(
    klaviyo: FakeKlaviyo, ledger: ExportLedger
) -> None:
    klaviyo.fail_next(*[jsonapi(503, {"errors": [{"code": "unavailable"}]})] * 4)
    report = run_export(_members(), "vip", "VIP", _klaviyo(klaviyo), ledger)
    assert report.sent == 0 and report.failed == 7
    assert "unavailable after 4 attempts" in report.errors[0].error
    again = run_export(_members(), "vip", "VIP", _klaviyo(klaviyo), ledger)
    assert (again.sent, again.failed) == (6, 1)


def test_a_member_claimed_by_a_running_export_is_not_sent_again(ledger: ExportLedger) -> None:
    key = ExportKey("mailchimp", "aud1", "vip")
    first = ledger.claim(key, ledger.start_run(key), {"c1": "f1", "c2": "f2"})
    second = ledger.claim(key, ledger.start_run(key), {"c1": "f1", "c2": "f2", "c3": "f3"})
    assert first.to_send == ["c1", "c2"]
    assert second.in_progress == ["c1", "c2"] and second.to_send == ["c3"]


def test_changed_contact_fields_are_sent_again(
    mailchimp: FakeMailchimp, ledger: ExportLedger
) -> None:
    member = Member("c1", "one@example.com", "Ann", "Lee", True)
    run_export([member], "vip", "VIP", _mailchimp(mailchimp), ledger)
    renamed = Member("c1", "one@example.com", "Anne", "Lee", True)
    report = run_export([renamed], "vip", "VIP", _mailchimp(mailchimp), ledger)
    assert (report.sent, report.already_sent) == (1, 0)
    assert mailchimp.members[subscriber_hash("one@example.com")]["merge_fields"]["FNAME"] == "Anne"
    report = run_export([renamed], "vip", "VIP", _mailchimp(mailchimp), ledger)
    assert (report.sent, report.already_sent) == (0, 1)


def test_csv_holds_consenting_members_only_and_defuses_formulas() -> None:
    members = [*_members(), Member("c12", "eve@example.com", "=HYPERLINK(1)", "-x", True)]
    text = "".join(csv_rows(members, "VIP"))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["customer_id", "email", "first_name", "last_name", "segment"]
    assert [r[0] for r in rows[1:]] == ["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c12"]
    assert rows[1] == ["c1", "Person1@Example.com", "P1", "Test", "VIP"]
    assert rows[-1][2:4] == ["'=HYPERLINK(1)", "'-x"]
    assert text.endswith("\r\n")


def test_no_address_name_or_key_reaches_the_logs(
    mailchimp: FakeMailchimp, klaviyo: FakeKlaviyo, ledger: ExportLedger,
    caplog: pytest.LogCaptureFixture,
) -> None:
    mailchimp.fail_next(problem(429, "Too Many Requests", "slow down"))
    with caplog.at_level(logging.DEBUG):
        run_export(_members(), "vip", "VIP", _mailchimp(mailchimp), ledger)
        run_export(_members(), "vip", "VIP", _klaviyo(klaviyo), ledger)
    assert caplog.records  # the run summaries were logged
    text = caplog.text.lower()
    for secret in (MC_KEY, KL_KEY, "@example.com", "person1", "thanks"):
        assert secret.lower() not in text


def test_keys_stay_out_of_settings_repr_and_dagster_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {"ANALYTICS_MAILCHIMP_API_KEY": MC_KEY, "ANALYTICS_MAILCHIMP_AUDIENCE_ID": "aud1",
           "ANALYTICS_KLAVIYO_API_KEY": KL_KEY, "ANALYTICS_KLAVIYO_LIST_ID": "L1",
           "ANALYTICS_KLAVIYO_BASE_URL": "http://127.0.0.1:9/api"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings.from_env()
    assert MC_KEY not in repr(settings) and KL_KEY not in repr(settings)
    resources = export_resources(settings)
    assert isinstance(resources["mailchimp"].api_key, dg.EnvVar)
    assert resources["klaviyo"].base_url == "http://127.0.0.1:9/api"
    plain = export_resources(settings, by_variable=False)
    assert plain["mailchimp"].destination() is not None
    assert export_resources(Settings.from_env({}))["klaviyo"].destination() is None
