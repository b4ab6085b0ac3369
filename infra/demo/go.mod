module github.com/tributary-etl/tributary/infra/demo

go 1.26.0
