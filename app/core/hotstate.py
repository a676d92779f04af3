"""Keys app/api/hot.py leaves in the request scope's state for the route it hands a request to."""

HOT_ERROR = "hot_path_error"  # the exception the hot path hit: the route re-raises it (one attempt)
HOT_DECLINED = "hot_path_declined"  # the hot statement ran and declined: the route goes to the full rules
