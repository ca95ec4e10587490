"""The roles' logic, each a few pure functions over a ``TeacherSession``, a task and what
the run archive holds: ``label`` (unlabelled files → labelled samples), ``pairs`` (prompts
→ call-and-response pairs), ``rate`` (candidates' outputs → ratings), ``tag`` (what people
typed to a live brain → labels or ratings) and ``distill`` (soft targets and the loss)."""
