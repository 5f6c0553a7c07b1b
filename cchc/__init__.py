"""cchc-graph: knowledge graph and Vietnamese search over CCHC plans.

The sub-packages live in the user's top-level folders (graph/, embeddings/,
search/, ontology/, service/) and are mapped under this one import root by
pyproject.toml, so `import cchc.graph` never collides with another `graph`.
"""

__version__ = "0.1.0"
