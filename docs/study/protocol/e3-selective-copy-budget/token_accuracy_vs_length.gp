set terminal pngcairo size 900,600 enhanced font 'Sans,10'
set output "token_accuracy_vs_length.png"
set title "selective-copy: test token accuracy\npoints: mean over 3 seeds (dots: each seed); bars: 95% bootstrap over seeds and test sequences"
set xlabel "length"
set ylabel "token accuracy"
set grid
set key outside right
set logscale x 2
set yrange [0:1.02]
set xrange [51.2:80]
set xtics ("64" 64)
plot '-' using 1:2:3:4 with yerrorlines title "gpt" lw 2 lc 1, '-' using 1:2:3:4 with yerrorlines title "mamba" lw 2 lc 2, '-' using 1:2:3:4 with yerrorlines title "mamba-lti" lw 2 lc 3, '-' using 1:2 with points pt 7 ps 0.5 lc 1 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 2 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 3 notitle, '-' using 1:2 with lines title "chance" dashtype 2 lw 2
64 0.9732916666666668 0.9659156249999999 0.9803333333333333
e
64 0.224375 0.13595416666666665 0.29825624999999995
e
64 0.10475000000000001 0.09308229166666668 0.11521041666666666
e
64 0.972625
64 0.9795
64 0.96775
e
64 0.1345
64 0.23475
64 0.303875
e
64 0.107875
64 0.114625
64 0.09175
e
64 0.0625
e
