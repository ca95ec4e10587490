"""The exchange (DESIGN §12.5): brains published in the Hugging Face Hub's layout to a shared
folder or the Hub, browsed, pulled and checked; training plans anyone can run.

- ``layout``: the names of a published brain's files and of an exchange folder;
- ``card``: the model card (``README.md``), written for people, read back as claims;
- ``package``: a ``.graph`` made into the files to publish;
- ``folder`` / ``hub``: the two places brains are published to and pulled from;
- ``where``: ``DEST``/``SRC`` strings (``hf:OWNER/NAME`` or a folder) to a place;
- ``pull``: a download checked against its card and its content id, written atomically;
- ``plans``, ``plandata``, ``planrun``: training plans, their data, their results.

A download and a plan are data: nothing in them is imported or called, and no name in
them is used as a path (docs/security.md).
"""
