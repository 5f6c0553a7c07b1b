"""Read-side answers over the store: projection, views, trace, analysis tables and figures."""
