"""Pathways: gene sets, per-sample pathway scores, prerank GSEA and NES conservation."""
