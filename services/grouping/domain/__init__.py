"""Pure CHS-DRG grouping: scheme packs compiled to indexed rules, cases grouped by the FORMAT.md algorithm.

Nothing in this package does I/O: loaders in ``adapters`` hand it parsed data, and it hands back values.
"""
