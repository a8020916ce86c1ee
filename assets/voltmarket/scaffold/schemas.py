"""Data contracts shared by every session."""

TRANSACTION_COLUMNS = {
    "transaction_id": "str", "timestamp": "datetime", "date": "date", "week": "int (1-6)",
    "hour": "int (0-23)", "country": "str (MX BR CO AR CL PE)", "issuer": "str",
    "card_brand": "str (Visa Mastercard Amex)", "merchant_category": "str",
    "amount_usd": "float", "approved": "int (0/1)", "decline_reason": "str | null",
}
SEGMENT_COLUMNS = {
    "dimension": "str", "segment": "str", "period": "str (weeks_1_3 | weeks_4_6)",
    "transactions": "int", "approved": "int", "approval_rate": "float",
}
WEEKLY_TREND_COLUMNS = {"week": "int", "transactions": "int", "approved": "int", "approval_rate": "float"}
ANOMALY_COLUMNS = {
    "dimension": "str", "segment": "str", "rate_before": "float", "rate_after": "float",
    "delta": "float", "z_score": "float", "p_value": "float", "is_anomaly": "int (0/1)",
    "revenue_impact_usd": "float",
}
INSIGHT_FIELDS = ["rank", "title", "description", "score", "impact_usd", "segment"]
