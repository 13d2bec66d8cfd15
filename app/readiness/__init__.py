"""Quarter-close readiness: the checklist per quarter, lessons carried forward, one explainable score."""
