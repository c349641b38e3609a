"""Self-evaluation (Selbstevaluation) for school networks.

Schools answer survey instruments such as the *Selbstevaluationsraster Digitale
Schulentwicklung* (a grid of criteria and indicators) or the *Medienhaus* (one
respondent per school rates the media equipment; the result is a house whose
parts light up like traffic lights). Instruments are data: see
:mod:`lti_tool.selfeval.instruments`. This package holds no web code yet.
"""
