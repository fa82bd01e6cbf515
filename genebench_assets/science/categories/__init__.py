"""GeneLab categories beyond A (SPEC §8): cross-tissue transfer (C), confounder prediction (D),
gene vs pathway (J5), NES conservation vs transfer, on the published release's pathway scores."""
