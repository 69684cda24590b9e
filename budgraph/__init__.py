"""budgraph: the GraphQL registry of the Bud inference stack."""

__version__ = "0.1.0"
