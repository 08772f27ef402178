# ClauseWatch nightly runner: the package installed from its wheel on a slim Python base,
# run as an unprivileged user. Build: docker build -t clausewatch:<version> .
# Used by deploy/kubernetes/cronjob.yaml.

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY . /src/clausewatch
RUN pip wheel --no-cache-dir --wheel-dir /wheels /src/clausewatch

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links=/wheels clausewatch \
    && rm -rf /wheels \
    && groupadd --system --gid 10001 clausewatch \
    && useradd --system --uid 10001 --gid clausewatch --home-dir /var/lib/clausewatch \
       --create-home --shell /usr/sbin/nologin clausewatch
USER 10001:10001
WORKDIR /var/lib/clausewatch
ENTRYPOINT ["clausewatch"]
CMD ["--help"]
