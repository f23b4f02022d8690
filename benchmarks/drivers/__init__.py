"""One small driver per (framework, implementation): the same scenarios drive all of them."""
