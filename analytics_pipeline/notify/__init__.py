"""Inventory alert notifications: digest rendering, Slack and e-mail channels, the outbox.

Plain Python with no Dagster imports; the resources in :mod:`analytics_pipeline.resources`
build the channels from settings, and the digest asset, urgent-alert job and sensors drive
them.
"""
