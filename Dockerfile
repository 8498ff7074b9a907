# yakkan as a small image: `docker build -t yakkan .` then
# `docker run -p 8080:8080 yakkan` serves the bundled rule set (GET /healthz, POST
# /v1/evaluate, the rulebook at /). Mount another rule set over
# /usr/local/share/yakkan/rules to serve it instead; it is reloaded when it changes.

# Build: the toolchain the crate declares (rust-version in Cargo.toml).
FROM rust:1.88-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src src
COPY core core
COPY rules rules
COPY benches benches
COPY examples examples
RUN cargo build --release --locked --bin yakkan

# Run: the binary, the rules beside it in the installed layout, the example cases for the
# rulebook's pages.
FROM debian:bookworm-slim
COPY --from=build /src/target/release/yakkan /usr/local/bin/yakkan
COPY rules /usr/local/share/yakkan/rules
COPY examples /srv/examples
WORKDIR /srv
USER nobody
EXPOSE 8080
ENTRYPOINT ["yakkan"]
CMD ["serve", "--addr", "0.0.0.0:8080"]
