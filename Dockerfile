# medpay services image: one image, the service chosen by arguments (`serve coding`, `migrate`, ...).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY protos protos
COPY scripts scripts
COPY libs libs
COPY services services
RUN python -m venv /opt/medpay \
 && /opt/medpay/bin/pip install --no-cache-dir grpcio-tools mypy-protobuf googleapis-common-protos \
 && PYTHON=/opt/medpay/bin/python ./scripts/gen-protos \
 && /opt/medpay/bin/pip install --no-cache-dir .

FROM python:3.11-slim
RUN useradd --uid 10001 --create-home medpay
COPY --from=build /opt/medpay /opt/medpay
USER 10001
ENV PATH=/opt/medpay/bin:$PATH MEDPAY_DATA_DIR=/tmp/medpay
ENTRYPOINT ["medpay"]
CMD ["serve", "coding"]
