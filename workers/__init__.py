"""arq workers of budgraph: started with `budgraph worker`."""
