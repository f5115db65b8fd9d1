"""The Maillage web application: SPARQL endpoint, Linked Data and pages."""
