set terminal pngcairo size 900,600 enhanced font 'Sans,10'
set output "accuracy_vs_delay.png"
set title "copy-memory: test sequence accuracy\npoints: mean over 5 seeds (dots: each seed); bars: 95% bootstrap over seeds and test sequences"
set xlabel "delay"
set ylabel "sequence accuracy"
set grid
set key outside right
set logscale x 2
set yrange [0:1.02]
set xrange [12.8:320]
set xtics ("16" 16, "64" 64, "256" 256)
plot '-' using 1:2:3:4 with yerrorlines title "gpt" lw 2 lc 1, '-' using 1:2:3:4 with yerrorlines title "gru" lw 2 lc 2, '-' using 1:2:3:4 with yerrorlines title "lstm" lw 2 lc 3, '-' using 1:2:3:4 with yerrorlines title "lstm-chrono" lw 2 lc 4, '-' using 1:2:3:4 with yerrorlines title "mamba" lw 2 lc 5, '-' using 1:2 with points pt 7 ps 0.5 lc 1 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 2 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 3 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 4 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 5 notitle, '-' using 1:2 with lines title "chance" dashtype 2 lw 2
16 1 1 1
64 1 1 1
256 0.9992000000000001 0.9972 1
e
16 0 0 0
64 0 0 0
256 0 0 0
e
16 0 0 0
64 0 0 0
256 0 0 0
e
16 0 0 0
64 0 0 0
256 0 0 0
e
16 0 0 0
64 0 0 0
256 0 0 0
e
16 1
16 1
16 1
16 1
16 1
64 1
64 1
64 1
64 1
64 1
256 1
256 1
256 1
256 0.996
256 1
e
16 0
16 0
16 0
16 0
16 0
64 0
64 0
64 0
64 0
64 0
256 0
256 0
256 0
256 0
256 0
e
16 0
16 0
16 0
16 0
16 0
64 0
64 0
64 0
64 0
64 0
256 0
256 0
256 0
256 0
256 0
e
16 0
16 0
16 0
16 0
16 0
64 0
64 0
64 0
64 0
64 0
256 0
256 0
256 0
256 0
256 0
e
16 0
16 0
16 0
16 0
16 0
64 0
64 0
64 0
64 0
64 0
256 0
256 0
256 0
256 0
256 0
e
16 9.313225746154793e-10
64 9.313225746154793e-10
256 9.313225746154793e-10
e
