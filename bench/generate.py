"""Generate a large, realistic multi-document manifest for benchmarks."""

from __future__ import annotations

import argparse
import sys

TEMPLATE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-{i}
  namespace: team-{ns}
  labels: {{app: web-{i}, tier: frontend}}
  annotations:
    description: "generated workload {i} with an app, a proxy and a log shipper"
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web-{i}
  template:
    metadata:
      labels:
        app: web-{i}
    spec:
      terminationGracePeriodSeconds: 45
      initContainers:
      - name: migrate
        image: registry.example/migrate:{i}
        command: ["/bin/migrate", "--to", "latest"]
        resources:
          requests: {{cpu: 200m, memory: 128Mi}}
          limits: {{memory: 256Mi}}
      - name: proxy
        image: gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.11.0
        restartPolicy: Always
        args: ["--port=5432", "project:region:db-{i}"]
        ports:
        - containerPort: 5432
        startupProbe:
          tcpSocket: {{port: 5432}}
          periodSeconds: 2
          failureThreshold: 15
        resources:
          requests:
            cpu: 100m
            memory: 64Mi
          limits:
            memory: 128Mi
      containers:
      - name: app
        image: registry.example/web:1.{i}
        ports:
        - containerPort: 8080
          name: http
        env:
        - name: DB_HOST
          value: 127.0.0.1
        - name: LOG_LEVEL
          value: info
        readinessProbe:
          httpGet: {{path: /healthz, port: http}}
        lifecycle:
          preStop:
            sleep: {{seconds: 5}}
        resources:
          requests:
            cpu: 500m
            memory: 512Mi
          limits:
            cpu: "1"
            memory: 1Gi
        volumeMounts:
        - name: logs
          mountPath: /var/log/app
      - name: shipper
        image: fluent/fluent-bit:3.1
        args: ["-i", "tail", "-p", "path=/var/log/app/*.log", "-o", "stdout"]
        resources:
          requests: {{cpu: 50m, memory: 32Mi}}
        volumeMounts:
        - name: logs
          mountPath: /var/log/app
      volumes:
      - name: logs
        emptyDir: {{}}
---
apiVersion: v1
kind: Service
metadata:
  name: web-{i}
  namespace: team-{ns}
spec:
  selector: {{app: web-{i}}}
  ports:
  - port: 80
    targetPort: http
---
"""


def generate(size: int) -> str:
    """Return about ``size`` bytes of Deployments and Services."""
    parts: list[str] = []
    total = 0
    i = 0
    while total < size:
        chunk = TEMPLATE.format(i=i, ns=i % 17)
        parts.append(chunk)
        total += len(chunk)
        i += 1
    return "".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megabytes", type=float, default=10.0)
    args = parser.parse_args()
    sys.stdout.write(generate(int(args.megabytes * 1024 * 1024)))


if __name__ == "__main__":
    main()
