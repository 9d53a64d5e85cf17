# syntax=docker/dockerfile:1
# Multi-stage build of the three CES binaries. Each target is one small
# image: a static binary on distroless (CA certificates for the HTTPS
# providers and tzdata included), running as the non-root user 65532.
#   docker build --target api -t ces-api .
#   docker build --target worker -t ces-worker .
#   docker build --target starter -t ces-starter .

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/ ./api ./worker ./starter
# Mount points of the audit volumes, owned by the runtime user so that a
# fresh named volume mounted there is writable by it.
RUN mkdir -p /out/state/keys /out/state/anchor

FROM gcr.io/distroless/static-debian12:nonroot AS runtime
WORKDIR /ces
COPY --from=build --chown=65532:65532 /out/state /var/lib/ces
USER 65532:65532

FROM runtime AS api
COPY --from=build /out/api /ces/api
# 8000: the public API (HTTP_ADDR); 8081: the admin console and /metrics (ADMIN_ADDR).
EXPOSE 8000 8081
ENTRYPOINT ["/ces/api"]

FROM runtime AS worker
COPY --from=build /out/worker /ces/worker
EXPOSE 9091
ENTRYPOINT ["/ces/worker"]

FROM runtime AS starter
COPY --from=build /out/starter /ces/starter
ENTRYPOINT ["/ces/starter"]
