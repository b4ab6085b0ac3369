module github.com/tributary-etl/tributary/functions

go 1.26.0

require (
	github.com/pemistahl/lingua-go v1.4.0
	github.com/tributary-etl/tributary/shared v0.0.0
)

require (
	github.com/shopspring/decimal v1.3.1 // indirect
	golang.org/x/exp v0.0.0-20221106115401-f9659909a136 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

replace github.com/tributary-etl/tributary/shared => ../shared
