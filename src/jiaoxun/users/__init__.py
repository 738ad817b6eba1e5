"""Users of jiaoxun, their roles and their access tokens."""
