"""Text to records: readers, table rows, narrative units, citations, agencies, deadlines, targets.

Nothing here knows about triples, the store or the read side; every record keeps its line span.
"""
