"""The transparency log over HTTP: public checkpoints and proofs, restricted entries, and the
patient's access receipts (docs/transparency-log.md)."""
