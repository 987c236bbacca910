module example.com/gust-demo

go 1.19
