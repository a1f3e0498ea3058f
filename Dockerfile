# Container image of the Tugboat manager (cmd/manager).
#
#   docker build -t ghcr.io/tugboat-dev/tugboat-manager:dev .
#
# Not built by the project's own checks: the development machines and CI have no
# container engine, so this file is written for, but untested with, docker/podman/
# buildah. The runtime stage is distroless and runs as the non-root user 65532,
# which is what config/manager/deployment.yaml and charts/tugboat expect.

# --- build ---
FROM golang:1.26 AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-mod=mod GONOSUMDB=k8s.io
# Dependencies first, so that source changes reuse the module layer.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG TARGETOS=linux
ARG TARGETARCH=amd64
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -ldflags="-s -w" -o /out/manager ./cmd/manager && \
    GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath -ldflags="-s -w" -o /out/tug ./cmd/tug

# --- run ---
FROM gcr.io/distroless/static-debian12:nonroot
LABEL org.opencontainers.image.source="https://github.com/tugboat-dev/tugboat" \
      org.opencontainers.image.title="tugboat-manager" \
      org.opencontainers.image.description="Tugboat control plane (Sveltos APIs)"
WORKDIR /
COPY --from=build /out/manager /manager
# tug runs the pull-mode agent in managed clusters (tug agent --from-secret).
COPY --from=build /out/tug /tug
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["/manager"]
