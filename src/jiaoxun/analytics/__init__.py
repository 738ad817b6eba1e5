"""Statistics of the operation: every figure the reform is judged by, for any period and scope,
with year-over-year (同比) and period-over-period (环比) change, from the stored record."""
