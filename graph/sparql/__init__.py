"""A safe SPARQL query runner: refusals, limits and worker processes; it knows nothing of HTTP."""
