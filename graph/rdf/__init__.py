"""Records to triples to the store: terms, one named graph per document, generations, carry-over graphs."""
