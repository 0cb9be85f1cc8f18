"""Readers of other trackers' histories for `mltrail import` (they talk to those systems; the importer
service only receives what they read)."""
