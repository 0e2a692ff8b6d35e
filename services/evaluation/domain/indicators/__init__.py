"""Performance indicators (绩效评价) exactly as ``shared/evaluation/INDICATORS.md`` defines them.

``table`` holds the cases as columns (codes in numpy arrays, labels once), ``compute`` turns a table and a weight
table into one row of indicators per unit (region, hospital, department, doctor), ``rounding`` is the one place
where an exact ratio becomes a 4-decimal figure.
"""
