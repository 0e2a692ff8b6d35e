"""The evaluation service: performance evaluation (绩效评价) and smart review (智能审核)."""
