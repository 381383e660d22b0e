# The onemap binary in a small image. The web client is embedded (frontend/dist
# is committed), so the build needs only Go.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /onemap ./cmd/onemap

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /onemap /onemap
EXPOSE 8080
ENTRYPOINT ["/onemap"]
CMD ["serve", "--addr", "0.0.0.0:8080", "--seed-demo", "--demo-accounts"]
