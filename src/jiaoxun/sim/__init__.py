"""Simulation of the city's policing: SimPy models of deployments on the real road network."""
