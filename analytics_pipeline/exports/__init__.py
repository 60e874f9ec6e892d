"""Segment exports: members of a segment pushed to Mailchimp or Klaviyo, or a CSV file.

Every send goes through the ledger (:mod:`.ledger`), so a re-run after a failure sends only
the members that failed and never one that already went out; customers without marketing
consent are never sent.
"""
