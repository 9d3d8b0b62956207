"""`tlsleak explore`'s parts that need no process: the space of teardown shapes (space), a
covering design over it (design), the minimiser (minimise) and the standalone-repro emitter
(emit). The program that runs a point is repro/explore/explore_point.cpp (docs/DESIGN.md
"The explore program")."""
