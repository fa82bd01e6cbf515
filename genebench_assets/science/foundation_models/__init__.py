"""Foundation-model track (issue 20): Geneformer-style rank tokens per fold (`tokens`) for users who run a
model on their own GPU, and a linear probe on the embeddings they bring back (`embedding_probe`),
scored through the same folds and evaluation as every other model. No Dagster import."""
