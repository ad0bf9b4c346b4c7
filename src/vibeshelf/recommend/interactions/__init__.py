"""Interactions ingest: a reader per dataset, one cleaning pass, linking to the catalog."""
