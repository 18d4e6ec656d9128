"""Streamlit pages, cached wrappers and translations of the Kangle Planner app (not a library)."""
