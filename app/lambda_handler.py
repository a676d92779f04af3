"""The same API on AWS Lambda behind an ALB or an API Gateway HTTP API (`app.lambda_handler.handler`)."""

from mangum import Mangum

from app.main import app

handler = Mangum(app, lifespan="off")
