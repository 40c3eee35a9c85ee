"""Custom resource provider of the admin stack's organization id lookup (``Custom::OrgIdLookup``)."""
