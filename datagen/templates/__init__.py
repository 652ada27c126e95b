"""Diversity templaters: what a row's instructions say, chosen per row and recorded in `template`.

A template is a plain dict (stored as the row's `template` column) that the task renders and
scores under; nothing else about a row's instructions exists. One module per task:
`datagen.templates.sokoban` (action vocabularies, word pool, symbol legends, wordings) and
`datagen.templates.points` (face-card rules, wordings, targets).
"""
