# syntax=docker/dockerfile:1
# assistbot container: a static, cgo-free binary on a minimal non-root base.
#   docker build -t assistbot .
#   docker run -p 8080:8080 -v assistbot-data:/data assistbot

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# The build line is also run by cmd/assistbot's TestDockerfileBuild, which
# checks that it yields a static binary that starts.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/assistbot ./cmd/assistbot
RUN mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/assistbot /usr/local/bin/assistbot
COPY --from=build --chown=65532:65532 /out/data /data
# The defaults put the database at ./assistbot.db, which is /data here, and
# listen on :8080. No ASSISTBOT_* variable is set: it would override the
# same key of a mounted configuration file.
WORKDIR /data
USER 65532:65532
EXPOSE 8080
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/assistbot", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/assistbot"]
CMD ["serve"]
