# A small static image of the orthocds binary (pure Go, CGO_ENABLED=0).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN GOEXPERIMENT=simd CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/orthocds ./cmd/orthocds \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/orthocds /orthocds
COPY --from=build --chown=65532:65532 /out/data /data
ENV ORTHOCDS_ADDR=0.0.0.0:8080 \
    ORTHOCDS_DATA=/data
VOLUME /data
EXPOSE 8080
USER 65532:65532
ENTRYPOINT ["/orthocds"]
CMD ["serve"]
