"""Field activities of officers: matters handled on their own initiative (管事率, 盘查率)."""
