"""The emulated cloud (`workbench demo`): all five platforms on loopback, over real HTTP.

Independent of workbench.core and workbench.tui on purpose: it imports neither, so a
misunderstanding copied into both sides cannot hide itself.
"""
