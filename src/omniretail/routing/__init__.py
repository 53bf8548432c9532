"""Routing (sourcing): which locations fulfil an order's lines — candidates, cost model, greedy and MILP
strategies, explanations. Pure rules, no I/O: the orders service builds the request and books the result."""
