"""The sandbox: probing the machine's protections, building and running isolated learner processes.

limits (what a sandbox may use) · uids (the uid range, one slot per process) · probe (what this
machine allows) · seccomp (the refused system calls) · commands (the bubblewrap command, mounts,
environment) · staging (private copies) · cgroups (one group per process tree) · channel (requests
with deadlines, capped output) · process (a grading's sandbox) · zygote (pre-imported, forked per
grading) · errors. `inside/` is what runs in the sandbox: stdlib and numpy only."""
